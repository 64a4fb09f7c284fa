# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""A functional Keras model that trains all of its nested levels jointly."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

# Keras' own helper that undoes the per-replica loss scaling of
# tf.distribute, so per-level loss trackers report the same values as the
# total loss tracker.
from keras.src.losses.loss import unscale_loss_for_distribution

# Keras' container of the compiled metrics; each level gets its own copy.
from keras.src.trainers.compile_utils import CompileMetrics, MetricsList

from keras_subnets import levels as levels_lib
from keras_subnets.model_layers import model_layers
from keras_subnets.models.compressed_model import CompressedModel


def _level_clone(metrics: MetricsList | None, level: int) -> MetricsList | None:
    if metrics is None:
        return None
    clones = []
    for metric in metrics.metrics:
        clone = type(metric).from_config(metric.get_config())
        # Named as logged, so that callbacks in mode="auto" find the metric
        # (and its direction) under the name they monitor.
        parts = ["level", str(level), metrics.output_name, metric.name]
        clone.name = "_".join(part for part in parts if part)
        clones.append(clone)
    return MetricsList(clones)


class _LevelMetrics(CompileMetrics):
    """What ``fit`` logs for one level: its loss and compiled metrics.

    The metrics are cloned from the model's built `CompileMetrics`, so every
    level resolves ``"accuracy"`` and per-output metrics as the model does;
    they are logged as ``level_<k>_loss`` and ``level_<k>_<metric>``.

    Args:
        level: the level measured.
        loss_tracker: the level's loss `keras.metrics.Mean`.
        source: the model's built compiled metrics, or ``None``.
    """

    def __init__(self, level: int, loss_tracker: keras.metrics.Mean, source: CompileMetrics | None):
        super().__init__(None if source is None else source._user_metrics,
                         None if source is None else source._user_weighted_metrics,
                         output_names=None if source is None else source.output_names)
        self.name = f"level_{level}_metrics"
        self.loss_tracker = loss_tracker
        flat = [] if source is None else source._flat_metrics
        weighted = [] if source is None else source._flat_weighted_metrics
        self._flat_metrics = [_level_clone(m, level) for m in flat]
        self._flat_weighted_metrics = [_level_clone(m, level) for m in weighted]
        self._resolved_output_names = None if source is None else source._resolved_output_names
        self.built = True

    @property
    def metrics(self) -> list:
        return [self.loss_tracker, *super().metrics]

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self._flat_metrics or self._flat_weighted_metrics:
            super().update_state(y_true, y_pred, sample_weight)

    def reset_state(self):
        self.loss_tracker.reset_state()
        super().reset_state()

    def result(self) -> dict:
        return {self.loss_tracker.name: self.loss_tracker.result(), **super().result()}


@keras.saving.register_keras_serializable(package="keras_subnets")
class SubnetModel(CompressedModel):
    """Functional model whose sub-network layers hold nested levels.

    Built like any functional model (``SubnetModel(inputs, outputs)``) or by
    `keras_subnets.nest`. In ``fit`` every training step runs the densest level
    and the other levels on the same batch, sums their losses weighted by
    ``level_weights`` and takes one optimizer step, so each weight receives the
    gradients of exactly the levels that contain it (gradient routing).
    ``evaluate``/``predict`` run the active level (see `set_level`).

    Args:
        *args: ``inputs`` and ``outputs`` as for `keras.Model`.
        levels: the model-wide per-level sparsities, sparsest first.
        level_weights: loss weight of each level; default REDS's
            ``sqrt(1 - sparsity)``, normalised to sum to 1.
        sandwich: ``None`` trains every level in every step; an integer ``n``
            trains the sparsest, the densest and ``n`` levels drawn at random
            from the others (for many levels).
        distillation: in-place distillation weight ``λ`` in ``[0, 1]``: each
            non-dense level's loss becomes ``(1 - λ)·task + λ·KL(teacher ‖
            level)`` with the densest level's (stopped) prediction as teacher.
        distillation_temperature: softmax temperature when outputs are logits.
        from_logits: whether outputs are logits (for distillation); ``None``
            reads ``from_logits`` off the compiled loss.
        inner_gradient: in ``[0, 1]``, the share of level ``k``'s gradient
            that reaches the weights of levels below ``k`` (see
            `keras_subnets.levels.inner_gradient`). ``1`` (default) is plain
            gradient routing; smaller values protect the sparse levels from
            the dense levels' pull, ``0`` trains each weight only for the
            smallest level holding it.
        shared_gradient: in ``[0, 1]``, the same share for layers that are
            dense in every level (e.g. depthwise layers left out of
            ``nest(layers=...)``): ``1`` (default) lets every level train
            them; smaller values tune them for the sparsest level.
        validate_levels: with ``fit(validation_data=...)``, also evaluate
            every level on the validation data at each epoch's end and log
            ``val_level_<k>_loss`` and ``val_level_<k>_<metric>`` for every
            compiled metric, so that callbacks (``EarlyStopping``,
            ``ModelCheckpoint(save_best_only=True)``, ...) can monitor any
            level. Costs one validation pass per level.

    Training logs: ``fit`` logs ``level_<k>_loss`` and ``level_<k>_<metric>``
    for every compiled metric, measured on each step's batch before the
    optimizer step, as ``loss`` and the compiled metrics are. With
    ``sandwich``, only the sparsest and the densest level (trained on every
    batch) are logged.
        **kwargs: passed to `keras.Model`.
    """

    def __init__(
        self,
        *args,
        levels: Sequence[float] | None = None,
        level_weights: Sequence[float] | None = None,
        sandwich: int | None = None,
        distillation: float = 0.0,
        distillation_temperature: float = 1.0,
        from_logits: bool | None = None,
        inner_gradient: float = 1.0,
        shared_gradient: float = 1.0,
        validate_levels: bool = True,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        if levels is None:
            self._require_layers(self.subnet_layers(), "sub-network", "keras_subnets.nest(model, levels=...)")
            levels = next(layer.levels for layer in self.subnet_layers())
        self.levels = levels_lib.validate_sparsities(levels, where=f"model '{self.name}' levels")
        for layer in self.subnet_layers():
            if layer.num_levels != len(self.levels):
                raise ValueError(
                    f"layer '{layer.name}' has {layer.num_levels} levels but model "
                    f"'{self.name}' has {len(self.levels)}"
                )
        if level_weights is None:
            level_weights = levels_lib.default_loss_weights(self.levels)
        level_weights = [float(w) for w in level_weights]
        if len(level_weights) != len(self.levels) or min(level_weights) < 0 or sum(level_weights) <= 0:
            raise ValueError(
                f"model '{self.name}': level_weights must hold {len(self.levels)} "
                f"non-negative numbers with a positive sum, got {level_weights}"
            )
        total = sum(level_weights)
        self.level_weights = [w / total for w in level_weights]
        if sandwich is not None and (int(sandwich) < 0 or len(self.levels) < 3):
            raise ValueError(
                f"model '{self.name}': sandwich={sandwich} needs a non-negative count "
                "and at least 3 levels"
            )
        self.sandwich = None if sandwich is None else int(sandwich)
        self.distillation = self._unit_interval("distillation", distillation)
        self.distillation_temperature = float(distillation_temperature)
        self.from_logits = from_logits
        self.inner_gradient = self._unit_interval("inner_gradient", inner_gradient)
        self.shared_gradient = self._unit_interval("shared_gradient", shared_gradient)
        self.validate_levels = bool(validate_levels)
        self.level_loss_trackers = [
            keras.metrics.Mean(name=f"level_{k}_loss") for k in range(len(self.levels))
        ]
        for tracker in self.level_loss_trackers:
            tracker._direction = "down"  # for callbacks in mode="auto"
        self._sandwich_seed = keras.random.SeedGenerator(1337)
        # The mask schedule's step lives in the model so that .keras files and
        # checkpoints carry it and a resumed fit continues the schedule.
        self.schedule_step = self.add_weight(
            name="schedule_step", shape=(), initializer="zeros", dtype="int32",
            trainable=False,
        )

    @property
    def num_levels(self) -> int:
        return len(self.levels)

    def _logged_levels(self) -> list[int]:
        # A sandwich step trains the middle levels drawn at random; only the
        # sparsest and the densest are measured on every batch.
        if self.sandwich is None:
            return list(range(self.num_levels))
        return [0, self.num_levels - 1]

    def _level_metrics(self, y=None, y_pred=None) -> list[_LevelMetrics]:
        """What ``fit`` logs for each level (its loss, its compiled metrics).

        Cloned from the model's compiled metrics once those are built
        (building them from ``y``/``y_pred`` if given), and again after a new
        ``compile``. The JAX trainer must find them built before its first
        step, hence the call from `_symbolic_build`.
        """
        source = getattr(self, "_compile_metrics", None)
        if source is not None and not source.built:
            if y is None:
                source = None
            else:
                source.build(y, y_pred)
        if getattr(self, "_level_metrics_source", False) is not source:
            # Not tracked as sub-layers: they belong to the compiled state,
            # like the model's own CompileMetrics, and are never saved.
            found = [_LevelMetrics(k, tracker, source) for k, tracker in enumerate(self.level_loss_trackers)]
            object.__setattr__(self, "_level_compile_metrics", found)
            object.__setattr__(self, "_level_metrics_source", source)
        return self._level_compile_metrics

    def _symbolic_build(self, *args, **kwargs):
        super()._symbolic_build(*args, **kwargs)
        self._level_metrics()

    # Per-level losses and metrics exist only while fit() trains; evaluate()
    # (also the validation pass inside fit) must return the same list as for
    # a plain model. The JAX trainer collects its metric state from `metrics`
    # before the step runs, so membership follows fit/evaluate calls, not
    # tracing.
    @property
    def metrics(self):
        found = super().metrics
        trackers = list(getattr(self, "level_loss_trackers", ()))
        plain = [m for m in found if m not in trackers]
        if getattr(self, "_fitting", 0) and not getattr(self, "_evaluating", 0):
            level_metrics = self._level_metrics()
            plain.extend(level_metrics[k] for k in self._logged_levels())
        return plain

    def fit(self, *args, **kwargs):
        self._fitting = getattr(self, "_fitting", 0) + 1
        try:
            return super().fit(*args, **kwargs)
        finally:
            self._fitting -= 1

    def train_on_batch(self, *args, **kwargs):
        self._fitting = getattr(self, "_fitting", 0) + 1
        try:
            return super().train_on_batch(*args, **kwargs)
        finally:
            self._fitting -= 1

    def evaluate(self, *args, **kwargs):
        self._evaluating = getattr(self, "_evaluating", 0) + 1
        try:
            logs = super().evaluate(*args, **kwargs)
            # fit's validation pass: the only evaluate call with the cached
            # validation set and a dict result; fit prefixes the keys "val_".
            if (self.validate_levels and getattr(self, "_fitting", 0)
                    and kwargs.get("_use_cached_eval_dataset") and kwargs.get("return_dict")):
                logs = {**logs, **self._evaluate_every_level(kwargs)}
            return logs
        finally:
            self._evaluating -= 1

    def _evaluate_every_level(self, fit_kwargs: dict) -> dict:
        from keras_subnets.selection import level

        kwargs = {**fit_kwargs, "callbacks": None, "verbose": 0}
        found = {}
        for k in range(self.num_levels):
            with level(self, k):
                for name, value in super().evaluate(**kwargs).items():
                    found[f"level_{k}_{name}"] = value
        return found

    def test_on_batch(self, *args, **kwargs):
        self._evaluating = getattr(self, "_evaluating", 0) + 1
        try:
            return super().test_on_batch(*args, **kwargs)
        finally:
            self._evaluating -= 1

    def reset_metrics(self):
        super().reset_metrics()
        for metrics in self._level_metrics():
            metrics.reset_state()

    def subnet_layers(self) -> list:
        """Every layer of the model that holds per-level state."""
        return [layer for layer in model_layers(self)
                if hasattr(layer, "active_level") or hasattr(layer, "levels")]

    def call(self, inputs, training=None, mask=None, **kwargs):
        if not training:
            return super().call(inputs, training=training, mask=mask, **kwargs)
        # A training forward pass without an explicit level runs the densest
        # level: fit's own forward pass then doubles as the teacher.
        level = levels_lib.current_override()
        with (levels_lib.level_override(self.num_levels - 1 if level is None else level),
              levels_lib.inner_gradient(self.inner_gradient, self.shared_gradient)):
            return super().call(inputs, training=training, mask=mask, **kwargs)

    def _outputs_from_logits(self) -> bool:
        if self.from_logits is not None:
            return self.from_logits
        return bool(getattr(self.loss, "from_logits", False))

    def _distill(self, teacher, student):
        if self._outputs_from_logits():
            t = self.distillation_temperature
            teacher = ops.softmax(teacher / t, axis=-1)
            student = ops.softmax(student / t, axis=-1)
            return keras.losses.KLDivergence()(teacher, student) * (t * t)
        return keras.losses.KLDivergence()(teacher, student)

    def _level_loss(self, x, y, y_pred, teacher, sample_weight, level):
        loss = super().compute_loss(x, y, y_pred, sample_weight, training=True)
        if self.distillation > 0.0:
            loss = (1.0 - self.distillation) * loss + self.distillation * self._distill(teacher, y_pred)
        return loss

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Weighted sum of every trained level's loss (training only)."""
        if not training:
            return super().compute_loss(x, y, y_pred, sample_weight, training=training)
        top = self.num_levels - 1
        level_metrics = self._level_metrics(y, y_pred)

        def measure(k, loss_k, y_k):
            level_metrics[k].loss_tracker.update_state(unscale_loss_for_distribution(loss_k))
            level_metrics[k].update_state(y, ops.stop_gradient(y_k), sample_weight)

        dense_loss = super().compute_loss(x, y, y_pred, sample_weight, training=True)
        measure(top, dense_loss, y_pred)
        teacher = ops.stop_gradient(y_pred)
        weights = self.level_weights
        if self.sandwich is None:
            total = weights[top] * dense_loss
            for k in range(top):
                with levels_lib.level_override(k):
                    y_k = self(x, training=True)
                loss_k = self._level_loss(x, y, y_k, teacher, sample_weight, k)
                measure(k, loss_k, y_k)
                total = total + weights[k] * loss_k
            return total
        with levels_lib.level_override(0):
            y_0 = self(x, training=True)
        loss_0 = self._level_loss(x, y, y_0, teacher, sample_weight, 0)
        measure(0, loss_0, y_0)
        total = weights[top] * dense_loss + weights[0] * loss_0
        weight_sum = weights[top] + weights[0]
        weight_table = ops.convert_to_tensor(weights, dtype="float32")
        for _ in range(self.sandwich):
            k = keras.random.randint((), 1, top, seed=self._sandwich_seed, dtype="int32")
            with levels_lib.level_override(k):
                y_k = self(x, training=True)
            w_k = ops.take(weight_table, k)
            total = total + w_k * self._level_loss(x, y, y_k, teacher, sample_weight, k)
            weight_sum = weight_sum + w_k
        return total / weight_sum

    def summary(self, *args, print_fn=None, **kwargs) -> None:
        """Keras' summary, then what each level keeps.

        Keras counts every variable as a parameter, including the int32
        tables that say at which level each weight joins; the extra lines
        separate those from the weights and give each level's size and cost.
        """
        super().summary(*args, print_fn=print_fn, **kwargs)
        from keras_subnets.evaluation import level_costs

        emit = print_fn or print
        tables = [v for v in self.non_trainable_weights
                  if "int" in str(v.dtype) and v.name != "schedule_step"]
        entries = sum(int(np.prod(v.shape)) for v in tables)
        weights = sum(int(np.prod(v.shape)) for v in self.trainable_weights)
        itemsize = np.dtype(self.trainable_weights[0].dtype).itemsize if self.trainable_weights else 4
        lines = [
            f"Of the non-trainable params, {entries:,} are int32 level state (the level "
            f"at which each weight or unit joins, the active level), not weights.",
            f"Levels: {self.num_levels} (sparsest first); {weights:,} trainable weights in all; "
            f"bytes = the level's non-zero weights at {itemsize} bytes each (an int8 .tflite "
            "stores 1 byte per weight plus its sparse format: keras-subnets inspect).",
            f"{'level':>5}  {'target':>6}  {'non-zeros':>10}  {'sparsity':>8}  {'MACs':>12}  {'bytes':>10}",
        ]
        for k, target in enumerate(self.levels):
            cost = level_costs(self, k)
            lines.append(f"{k:>5}  {target:>6.2f}  {cost['nonzeros']:>10,}  "
                         f"{cost['sparsity']:>8.3f}  {cost['macs']:>12,}  {cost['nonzeros'] * itemsize:>10,}")
        for line in lines:
            emit(line)

    TRAINING_KEY = "subnet_training"

    def _training_config(self) -> dict:
        return {
            "levels": list(self.levels),
            "level_weights": list(self.level_weights),
            "sandwich": self.sandwich,
            "distillation": self.distillation,
            "distillation_temperature": self.distillation_temperature,
            "from_logits": self.from_logits,
            "inner_gradient": self.inner_gradient,
            "shared_gradient": self.shared_gradient,
            "validate_levels": self.validate_levels,
        }
