"""A local stand-in for the built-in SageMaker XGBoost 3.0-5 algorithm (CSV channels).

Reads the same channels (`train`, optional `validation`; label in the first column, no header),
checks hyperparameters as the image does (it rejects names it does not know, such as the seed's
`silent`), trains with the same xgboost 3.0.5 and saves `xgboost-model` the way the image does
(`Booster.save_model` on a path without extension), so the artifact loads in the AWS container.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from offline.executor.sandbox import Sandbox

# The hyperparameters the 3.0-5 image's validation accepts (sagemaker-xgboost-container).
KNOWN = {
    "num_round", "booster", "verbosity", "nthread", "eta", "gamma", "max_depth", "min_child_weight",
    "max_delta_step", "subsample", "sampling_method", "colsample_bytree", "colsample_bylevel",
    "colsample_bynode", "lambda", "alpha", "tree_method", "sketch_eps", "scale_pos_weight", "updater",
    "dsplit", "refresh_leaf", "process_type", "grow_policy", "max_leaves", "max_bin", "predictor",
    "sample_type", "normalize_type", "rate_drop", "one_drop", "skip_drop", "lambda_bias",
    "tweedie_variance_power", "objective", "base_score", "eval_metric", "seed", "num_parallel_tree",
    "save_model_on_termination", "early_stopping_rounds", "csv_weights", "interaction_constraints",
    "monotone_constraints", "deterministic_histogram", "single_precision_histogram", "num_class",
    "max_cat_to_onehot", "max_cached_hist_node", "multi_strategy", "aft_loss_distribution",
    "aft_loss_distribution_scale", "huber_slope", "quantile_alpha", "device", "use_dask_gpu_training",
    "kfold", "_tuning_objective_metric", "_kfold",
}  # fmt: skip
NOT_BOOSTER_PARAMS = {
    "num_round",
    "early_stopping_rounds",
    "csv_weights",
    "save_model_on_termination",
    "kfold",
    "_kfold",
}
NOT_BOOSTER_PARAMS |= {"_tuning_objective_metric", "use_dask_gpu_training"}
MODEL_FILE = "xgboost-model"


class AlgorithmError(ValueError):
    """Bad hyperparameters or data, worded as the image's ClientError / AlgorithmError."""


def train(sandbox: Sandbox, hyperparameters: dict[str, str], channels: dict[str, Path]) -> list[dict]:
    import xgboost as xgb

    params = check_hyperparameters(hyperparameters)
    if "train" not in channels:
        raise AlgorithmError("ClientError: the 'train' channel is required")
    dtrain = _matrix(channels["train"], "train")
    evals = [(dtrain, "train")]
    if "validation" in channels:
        evals.append((_matrix(channels["validation"], "validation"), "validation"))
    results: dict = {}
    booster = xgb.train(
        params,
        dtrain,
        num_boost_round=int(hyperparameters["num_round"]),
        evals=evals,
        evals_result=results,
        early_stopping_rounds=int(hyperparameters["early_stopping_rounds"])
        if "early_stopping_rounds" in hyperparameters
        else None,
        verbose_eval=False,
    )
    model_dir = sandbox.local("/opt/ml/model")
    model_dir.mkdir(parents=True, exist_ok=True)
    # "Saving model in the UBJSON format as default": as the image does. XGBoost routes its native log through
    # Python only in the thread that loaded it (its log callback and config are thread-local), so a step run
    # in another thread would print it raw: silence it in this thread.
    with warnings.catch_warnings(), xgb.config_context(verbosity=0):
        warnings.simplefilter("ignore", UserWarning)
        booster.save_model(str(model_dir / MODEL_FILE))
    metrics = [
        {"MetricName": f"{data}:{name}", "Value": float(values[-1])}
        for data, by_metric in results.items()
        for name, values in by_metric.items()
    ]
    sandbox.log("\n".join(f"final {m['MetricName']} = {m['Value']:.6f}" for m in metrics))
    return metrics


def check_hyperparameters(hyperparameters: dict[str, str]) -> dict:
    unknown = sorted(set(hyperparameters) - KNOWN)
    if unknown:
        raise AlgorithmError(
            f"ClientError: Hyperparameter validation failed: extraneous hyperparameter(s) {', '.join(unknown)}"
        )
    if "num_round" not in hyperparameters:
        raise AlgorithmError("ClientError: Hyperparameter validation failed: num_round is required")
    params: dict = {}
    for key, value in hyperparameters.items():
        if key in NOT_BOOSTER_PARAMS:
            continue
        params[key] = value.split(",") if key == "eval_metric" else value
    params["nthread"] = 1  # one thread: more stall on a busy two-core machine
    return params


def _matrix(folder: Path, channel: str):
    import xgboost as xgb

    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise AlgorithmError(f"ClientError: channel {channel} is empty")
    try:
        data = np.vstack([np.loadtxt(f, delimiter=",", ndmin=2) for f in files])
    except ValueError as e:
        raise AlgorithmError(f"ClientError: channel {channel} is not numeric CSV (label first, no header): {e}") from e
    return xgb.DMatrix(data[:, 1:], label=data[:, 0], nthread=1)
