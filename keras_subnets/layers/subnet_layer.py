# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""Behaviour shared by the sub-network versions of weight layers."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from keras_subnets import levels as levels_lib
from keras_subnets import masks as masks_lib
from keras_subnets.layers.weight_layer import WeightLayerMixin


class SubnetLayerMixin(WeightLayerMixin):
    """Nested masks, the active level and per-level statistics for a layer.

    The nested specialisation of `WeightLayerMixin` (LCS layers are the other).

    Takes the Keras layer's arguments plus ``levels``, ``mask_kind``,
    ``level_widths`` and ``keep_row_max`` (documented in `SubnetDense`).
    A subclass also derives from a Keras weight layer and provides
    ``_kernel_to_rows`` / ``_rows_to_kernel`` (the canonical ``(out, R)``
    view), ``_units`` and ``_positions_per_sample`` (how often each weight is
    used per sample, for MAC counts).

    Variables added to the parent's:
        kernel_level: int32, kernel shape; the first level containing each
            weight (``L`` = no level).
        unit_level: int32, one per output unit; the first level containing
            the unit (``structured`` masks the bias with it; zeros otherwise).
        active_level: int32 scalar; the level used outside training.
    """

    def __init__(
        self,
        *args,
        levels: Sequence[float] | None = None,
        mask_kind: str = "unstructured",
        level_widths: Sequence[int] | None = None,
        keep_row_max: bool = True,
        **kwargs,
    ):
        # The Keras layer's own arguments (units, or filters and kernel_size, ...) pass through.
        super().__init__(*args, **kwargs)
        self._init_subnet(levels, mask_kind, level_widths, keep_row_max)

    def _init_subnet(
        self,
        levels: Sequence[float] | None,
        mask_kind: str,
        level_widths: Sequence[int] | None,
        keep_row_max: bool,
    ) -> None:
        name = getattr(self, "name", type(self).__name__)
        self.levels = levels_lib.validate_sparsities(
            [0.0] if levels is None else levels, where=f"layer '{name}' levels"
        )
        if mask_kind not in masks_lib.MASK_KINDS:
            raise ValueError(
                f"layer '{name}': unknown mask_kind {mask_kind!r}; expected one of "
                f"{masks_lib.MASK_KINDS}"
            )
        self.mask_kind = mask_kind
        if level_widths is not None:
            level_widths = [int(w) for w in level_widths]
            if len(level_widths) != len(self.levels):
                raise ValueError(
                    f"layer '{name}': level_widths has {len(level_widths)} entries but "
                    f"the layer has {len(self.levels)} levels"
                )
        self.level_widths = level_widths
        self.keep_row_max = bool(keep_row_max)
        self._check_layer_arguments(name)

    @property
    def num_levels(self) -> int:
        return len(self.levels)

    def _build_subnet(self) -> None:
        self.kernel_level = self.add_weight(
            name="kernel_level", shape=tuple(self.kernel.shape), initializer="zeros",
            dtype="int32", trainable=False,
        )
        self.unit_level = self.add_weight(
            name="unit_level", shape=(self._units,), initializer="zeros",
            dtype="int32", trainable=False,
        )
        self.active_level = self.add_weight(
            name="active_level", shape=(),
            initializer=keras.initializers.Constant(self.num_levels - 1),
            dtype="int32", trainable=False,
        )
        if self.mask_kind == "structured":
            widths = self.level_widths or [self._units] * self.num_levels
            self.set_structured_levels(widths)
        else:
            self.update_masks(self.levels)

    def _current_level(self):
        forced = levels_lib.current_override()
        return self.active_level if forced is None else forced

    def _masked(self, variable, assignment):
        level = self._current_level()
        keep = ops.less_equal(assignment, level)
        scale = levels_lib.current_inner_gradient()
        shared = levels_lib.current_shared_gradient()
        if scale is not None and (scale != 1.0 or shared != 1.0):
            # Same value, gradient scaled by `scale` on the smaller levels' weights. Decided in the
            # graph: a layer whose weights are all in level 0 (kept dense in every level, or before
            # the schedule's first masks) serves every level alike and gets `shared` instead.
            inner = ops.cast(ops.less(assignment, level), variable.dtype)
            nested = ops.cast(ops.any(ops.greater(self.kernel_level, 0)), variable.dtype)
            factor = nested * scale + (1.0 - nested) * shared
            variable = levels_lib.scale_gradient(variable, inner, factor)
        return variable * ops.cast(keep, variable.dtype)

    def _pass_weights(self, training):
        return self._masked_kernel(), self._masked_bias() if self.use_bias else None

    def _masked_kernel(self):
        return self._masked(self.kernel, self.kernel_level)

    def _masked_bias(self):
        if self.mask_kind != "structured":
            return self.bias
        return self._masked(self.bias, self.unit_level)

    # Mask updates run eagerly (from nest() and the schedule callback), in numpy.

    def update_masks(self, sparsities: Sequence[float] | None = None) -> None:
        """Recomputes the nested masks from the current weight magnitudes.

        Args:
            sparsities: per-level sparsities to apply now (a schedule passes
                its current values); defaults to the layer's target levels.
                Ignored by ``structured`` layers, whose widths are fixed.
        """
        if self.mask_kind == "structured":
            return
        sparsities = self.levels if sparsities is None else list(sparsities)
        if len(sparsities) != self.num_levels:
            raise ValueError(
                f"layer '{self.name}': got {len(sparsities)} sparsities for "
                f"{self.num_levels} levels"
            )
        rows = self._kernel_to_rows(np.asarray(keras.ops.convert_to_numpy(self.kernel)))
        assignment = masks_lib.nested_levels(self.mask_kind, rows, sparsities, self.keep_row_max)
        self.kernel_level.assign(self._rows_to_kernel(assignment))

    def set_structured_levels(
        self, widths: Sequence[int], input_levels: np.ndarray | None = None,
        unit_levels: np.ndarray | None = None,
    ) -> None:
        """Sets a ``structured`` layer's nested unit prefixes.

        Args:
            widths: number of leading output units kept by each level.
            input_levels: first level of each input channel (from the
                upstream layer); a weight is active only when both its input
                and its output unit are. ``None`` = every input always active.
            unit_levels: first level of each output unit, when the active
                units are not the leading ones (a depthwise layer after a
                concatenation: each member's prefix at its offset); must keep
                ``widths[k]`` units at level ``k``.
        """
        if unit_levels is None:
            try:
                unit_levels = masks_lib.prefix_levels(self._units, widths)
            except ValueError as err:
                raise ValueError(f"layer '{self.name}': {err}") from None
        else:
            unit_levels = np.asarray(unit_levels, np.int32)
            counts = [int(np.sum(unit_levels <= k)) for k in range(self.num_levels)]
            if unit_levels.shape != (self._units,) or counts != [int(w) for w in widths]:
                raise ValueError(f"layer '{self.name}': unit levels keep {counts} units, widths say "
                                 f"{list(widths)}")
        self.level_widths = [int(w) for w in widths]
        rows = np.broadcast_to(unit_levels[:, None], self._rows_shape()).copy()
        if input_levels is not None:
            rows = np.maximum(rows, self._input_levels_to_rows(np.asarray(input_levels)))
        self.unit_level.assign(unit_levels)
        self.kernel_level.assign(self._rows_to_kernel(rows.astype(np.int32)))

    def _rows_shape(self) -> tuple[int, int]:
        n = int(np.prod(self.kernel.shape))
        return (self._units, n // self._units)

    def level_masks(self) -> np.ndarray:
        """Boolean masks of every level, shape ``(L,) + kernel.shape``."""
        assignment = keras.ops.convert_to_numpy(self.kernel_level)
        return np.stack([assignment <= k for k in range(self.num_levels)])

    def level_nonzeros(self, level: int) -> int:
        """Kernel weights (plus active biases) used by ``level``."""
        self._check_level(level)
        assignment = keras.ops.convert_to_numpy(self.kernel_level)
        count = int(np.sum(assignment <= level))
        if self.use_bias:
            count += int(np.sum(keras.ops.convert_to_numpy(self.unit_level) <= level))
        return count

    def level_macs(self, level: int) -> int:
        """Multiply-accumulates per sample at ``level`` (kernel weights only)."""
        self._check_level(level)
        assignment = keras.ops.convert_to_numpy(self.kernel_level)
        return int(np.sum(assignment <= level)) * self._positions_per_sample

    def _check_level(self, level: int) -> None:
        if not 0 <= int(level) < self.num_levels:
            raise ValueError(
                f"layer '{self.name}': level {level} is out of range; it has "
                f"{self.num_levels} levels (0..{self.num_levels - 1})"
            )

    def _saved_variables(self) -> dict:
        found = self._weight_variables()
        for name in ("kernel_level", "unit_level", "active_level"):
            found[name] = getattr(self, name)
        return found

    def _subnet_config(self) -> dict:
        return {
            "levels": list(self.levels),
            "mask_kind": self.mask_kind,
            "level_widths": self.level_widths,
            "keep_row_max": self.keep_row_max,
        }
