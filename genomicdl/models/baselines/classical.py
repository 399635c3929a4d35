"""The classical baselines' shared machinery: fitting per target kind, predicting in the
kind's shape, and their state as plain arrays (no pickle; see ``serial``).

| kind                      | y in fit                         | one estimator | predict          |
|---------------------------|----------------------------------|---------------|------------------|
| binary / multilabel       | (n, T) 0/1; positive weight (T,) | per output    | (n, T) P(1)      |
| multiclass / per_position | (n,) class, -1 ignored; (C,)     | one, softmax  | (n, C) P(class)  |
| regression                | (n, T) values, NaN missing       | per output    | (n, T) values    |

An output with one class (or no rows) gets a constant prediction instead of an
estimator. Subclasses make the features, the estimator, and turn a fitted estimator
into arrays and back.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from genomicdl.kinds.targets import Target


class ClassicalBaseline:
    """Fit and predict for every kind a subclass lists in ``KINDS``."""

    KINDS: ClassVar[tuple[str, ...]] = ()
    per_position = False

    def __init__(self, *, target: Target, alphabet: str, double_stranded: bool, seed: int, **params: Any) -> None:
        if target.kind not in self.KINDS:
            fits = ", ".join(self.KINDS)
            raise ValueError(f"{type(self).__name__} cannot fit {target.kind} targets (it fits {fits})")
        self.target, self.alphabet, self.double_stranded, self.seed = target, alphabet, double_stranded, seed
        self.params = params
        self.estimators: list[Any] = []
        self.constant: list[float | None] = []

    # -- to implement
    def features(self, codes: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
        raise NotImplementedError

    def _estimator(self) -> Any:
        raise NotImplementedError

    def _prepare(self, x: np.ndarray, fit: bool) -> np.ndarray:
        """Transform features before the estimators (e.g. standardise); ``fit`` on training data."""
        return x

    def _estimator_arrays(self, est: Any) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _estimator_from(self, arrays: dict[str, np.ndarray]) -> Any:
        raise NotImplementedError

    def _estimator_parameters(self, est: Any) -> int:
        raise NotImplementedError

    # -- fitting
    def _problems(self, y: np.ndarray, weights: np.ndarray | None) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(rows, labels, sample weights) of each estimator to fit."""
        k = self.target.k
        if k.activation == "softmax":
            y = np.asarray(y).ravel()
            rows = np.flatnonzero(y >= 0)
            w = np.ones(self.target.outputs, np.float64) if weights is None else np.asarray(weights, np.float64)
            return [(rows, y[rows].astype(np.int64), w[y[rows]])]
        y = np.asarray(y).reshape(len(y), -1)
        problems = []
        for t in range(y.shape[1]):
            if k.activation == "linear":
                rows = np.flatnonzero(~np.isnan(y[:, t]))
                problems.append((rows, y[rows, t].astype(np.float64), np.ones(len(rows))))
            else:
                pos = 1.0 if weights is None else float(np.asarray(weights)[t])
                yt = y[:, t].astype(np.int64)
                problems.append((np.arange(len(y)), yt, np.where(yt == 1, pos, 1.0)))
        return problems

    def fit(self, x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> ClassicalBaseline:
        """Fit on features ``x`` and kind-shaped labels ``y`` with per-output (binary,
        multilabel: positive) or per-class weights."""
        x = self._prepare(x, fit=True)
        self.estimators, self.constant = [], []
        for rows, yt, sw in self._problems(y, weights):
            if len(rows) == 0 or (self.target.k.activation != "linear" and yt.min() == yt.max()):
                self.estimators.append(None)
                self.constant.append(float(yt[0]) if len(rows) else 0.0)
                continue
            est = self._estimator()
            est.fit(x[rows], yt, sample_weight=sw)
            self.estimators.append(self._fitted(est))
            self.constant.append(None)
        return self

    def _fitted(self, est: Any) -> Any:
        """The fitted estimator as predictions will use it: rebuilt from the arrays a saved
        model keeps (contiguous copies), so that a reloaded model predicts bit for bit the
        same; subclasses may hold it otherwise (e.g. its trees as arrays)."""
        return self._estimator_from(self._estimator_arrays(est))

    # -- predicting
    def predict(self, x: np.ndarray) -> np.ndarray:
        """Kind-shaped predictions: (n, T) probabilities or values, (n, C) softmax."""
        x = self._prepare(x, fit=False)
        if self.target.k.activation == "softmax":
            out = np.zeros((len(x), self.target.outputs), np.float32)
            est, const = self.estimators[0], self.constant[0]
            if est is None:
                out[:, int(const)] = 1.0
            else:
                out[:, est.classes_.astype(np.int64)] = est.predict_proba(x)
            return out
        out = np.empty((len(x), len(self.estimators)), np.float32)
        for t, est in enumerate(self.estimators):
            if est is None:
                out[:, t] = self.constant[t]
            elif self.target.k.activation == "linear":
                out[:, t] = est.predict(x)
            else:
                out[:, t] = est.predict_proba(x)[:, 1]
        return out

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Binary-era name of :meth:`predict`."""
        return self.predict(x)

    def parameter_count(self) -> int:
        """Fitted numbers of every estimator (coefficients and intercepts, or tree nodes)."""
        return sum(self._estimator_parameters(est) for est in self.estimators if est is not None)

    # -- state
    def _extra_state(self) -> dict[str, np.ndarray]:
        return {}

    def _restore_extra(self, arrays: dict[str, np.ndarray]) -> None:
        pass

    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """(JSON-able description, named arrays) from which :meth:`from_state` rebuilds
        the fitted baseline."""
        meta = {
            "class": type(self).__name__,
            "target": self.target.to_json(),
            "alphabet": self.alphabet,
            "double_stranded": self.double_stranded,
            "seed": self.seed,
            "params": dict(self.params),
            "constant": list(self.constant),
        }
        arrays = dict(self._extra_state())
        for i, est in enumerate(self.estimators):
            if est is not None:
                arrays |= {f"est{i}_{key}": value for key, value in self._estimator_arrays(est).items()}
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> ClassicalBaseline:
        """The fitted baseline that :meth:`to_state` described."""
        if meta.get("class") != cls.__name__:
            raise ValueError(f"the state describes a {meta.get('class')}, not a {cls.__name__}")
        target = Target.from_json(meta["target"])
        model = cls(target=target, alphabet=meta["alphabet"], double_stranded=bool(meta["double_stranded"]),
                    seed=int(meta["seed"]), **meta["params"])  # fmt: skip
        model._restore_extra(arrays)
        model.constant = [None if c is None else float(c) for c in meta["constant"]]
        for i, const in enumerate(model.constant):
            prefix = f"est{i}_"
            own = {key[len(prefix) :]: value for key, value in arrays.items() if key.startswith(prefix)}
            model.estimators.append(None if const is not None else model._estimator_from(own))
        return model
