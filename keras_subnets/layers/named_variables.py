# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Saving every variable of a layer under its own name."""

from __future__ import annotations


class NamedVariablesMixin:
    """``save_own_variables`` / ``load_own_variables`` over ``_saved_variables()``.

    Keras' Dense/Conv layers save only kernel and bias, by position; sub-network
    and subspace layers add masks, levels, endpoints and α that must round-trip
    exactly, so every variable is stored under its own name and a file lacking
    one is refused by name. A subclass returns ``{name: variable}`` from
    ``_saved_variables`` and may refresh derived state in ``_after_load``.
    """

    def _saved_variables(self) -> dict:
        raise NotImplementedError

    def _after_load(self) -> None:
        pass

    def save_own_variables(self, store) -> None:
        if not self.built:
            return
        for name, variable in self._saved_variables().items():
            store[name] = variable

    def load_own_variables(self, store) -> None:
        if not self.built:
            return
        wanted = self._saved_variables()
        missing = [name for name in wanted if name not in store]
        if missing:
            raise ValueError(
                f"layer '{self.name}': the saved file lacks variables {missing}; it "
                "was not written by this version of keras_subnets"
            )
        for name, variable in wanted.items():
            variable.assign(store[name])
        self._after_load()
