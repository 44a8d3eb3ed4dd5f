"""``descent fit``, ``descent predict`` and ``descent lr-find``: models on data files."""

from __future__ import annotations

import csv
import io
import math
import sys
import time
import warnings
from pathlib import Path

import click
import numpy as np

from ..data import DataError, read_table
from ..data.tables import HeaderError
from ..models import (
    LinearRegression,
    LinearSVC,
    LogisticRegression,
    MLPClassifier,
    MLPRegressor,
    Perceptron,
    lr_find,
)
from .app import (
    FiniteFloat,
    UserError,
    echo,
    is_stream,
    main,
    one_line,
    output_options,
    print_json,
    print_table,
    printable,
    readable_input,
    refuse_clashes,
    save_figure,
    writable_target,
    write_atomically,
)

#: The names ``--model`` accepts.
MODELS = {
    "linear": LinearRegression,
    "perceptron": Perceptron,
    "logistic": LogisticRegression,
    "svm": LinearSVC,
    "mlp": MLPClassifier,
    "mlp-regressor": MLPRegressor,
}

# option name -> (estimator parameter, click type, help)
HYPER_PARAMETERS = {
    "loss": ("loss", click.Choice(["squared_error", "absolute_error"]),
             "linear only: mean square or mean absolute error."),
    "optimizer": ("optimizer", click.Choice(["gd", "momentum", "nesterov", "adagrad",
                                             "rmsprop", "adam"]), "How each step is taken."),
    "learning_rate": ("learning_rate", FiniteFloat(min=0, min_open=True),
                      "Step size (default: the model's)."),
    "epochs": ("epochs", click.IntRange(min=1), "Most passes over the data."),
    "batch_size": ("batch_size", str, "Samples per step: a number, 'auto' (32, more for "
                   "large data) or 'full' for batch descent."),
    "penalty": ("penalty", click.Choice(["none", "l1", "l2", "elasticnet"]), "Regularization."),
    "alpha": ("alpha", FiniteFloat(min=0), "Regularization strength."),
    "C": ("C", FiniteFloat(min=0, min_open=True), "svm only: inverse regularization."),
    "hidden": ("hidden_layer_sizes", str, "mlp only: hidden layer sizes, e.g. '64,32'."),
    "activation": ("activation", click.Choice(["relu", "sigmoid", "tanh", "identity"]),
                   "mlp only: hidden activation."),
    "tol": ("tol", FiniteFloat(min=0), "Stop when the loss improves by less than this."),
}


def model_options(command):
    """``--model``, ``--target``, ``--random-state`` and every hyper-parameter option."""
    for option, (_, kind, text) in reversed(HYPER_PARAMETERS.items()):
        flag = "--" + option.replace("_", "-")
        command = click.option(flag, option, type=kind, default=None, help=text)(command)
    command = click.option("--random-state", type=click.IntRange(0, 2**32 - 1), default=0,
                           show_default=True, help="Seed from 0 to 2**32 - 1 (scikit-learn's "
                           "range): the same seed gives the same model.")(command)
    command = click.option("--model", "model_name", required=True,
                           type=click.Choice(list(MODELS)), help="Which model to train.")(command)
    return click.option("--target", required=True,
                        help="Target column: a name, or an index counting from 0.")(command)


def build_model(name: str, random_state: int, options: dict):
    """The estimator ``name`` with the hyper-parameters the user gave (and only those)."""
    cls = MODELS[name]
    accepted = cls().get_params()
    params = {"random_state": random_state}
    for option, value in options.items():
        if value is None:
            continue
        param = HYPER_PARAMETERS[option][0]
        if param not in accepted:
            users = [n for n, c in MODELS.items() if param in c().get_params()]
            raise UserError(f"--{option.replace('_', '-')} does not apply to --model {name}; "
                            f"it is for {', '.join(users)}")
        params[param] = _convert(option, value)
    return cls(**params)


def _convert(option: str, value):
    if option == "penalty":
        return None if value == "none" else value
    if option == "batch_size":
        if value.lower() == "full":
            return None
        if value.lower() == "auto":
            return "auto"
        if value.isdigit() and int(value) >= 1:
            return int(value)
        raise UserError(f"--batch-size must be a positive whole number, 'auto' or 'full', got "
                        f"{value!r}")
    if option == "hidden":
        try:
            sizes = tuple(int(part) for part in value.split(","))
        except ValueError:
            sizes = ()
        if not sizes or min(sizes) < 1:
            raise UserError(f"--hidden must be layer sizes like '64' or '64,32', got {value!r}")
        return sizes
    return value


def _is_classifier(model) -> bool:
    return getattr(model, "_is_classifier", False)


def _load_training_data(data: str, target: str, model):
    table = read_table(data, target=target, numeric_target=not _is_classifier(model))
    if _is_classifier(model) and np.unique(table.y).size > max(50, table.y.size // 2):
        raise UserError(f"target column {table.target_name!r} has {np.unique(table.y).size} "
                        f"distinct values: it looks continuous, but --model "
                        f"{_model_name(model)} is a classifier; use --model linear or "
                        "mlp-regressor, or choose the label column")
    return table


def _model_name(model) -> str:
    return next(name for name, cls in MODELS.items() if type(model) is cls)


def _fit(model, X, y, *, show_progress: bool):
    """Fit with a progress bar on stderr that shows the current loss.

    Warnings the user should act on (a fit that did not settle, a refused kernel cache)
    are printed as one ``warning: ...`` line each; NumPy's arithmetic RuntimeWarnings are
    not, since divergence is reported on its own. A first Ctrl-C ends the fit after its
    current step with the training kept (``history_.stopped == "interrupted"``).
    """
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from ..kernels.cache import KernelCacheWarning
    from ..models import FitInterruptedWarning

    console = Console(stderr=True)
    # Only on a terminal: into a pipe or a log, rich would leave an empty line behind.
    progress = Progress(TextColumn("[bold]training"), BarColumn(),
                        TextColumn("epoch {task.completed}"),
                        TextColumn("loss {task.fields[loss]}"), TimeElapsedColumn(),
                        console=console, transient=True,
                        disable=not (show_progress and console.is_terminal))
    task = progress.add_task("fit", total=model.epochs, loss="-")

    def report(estimator, epoch, logs):
        progress.update(task, completed=epoch, loss=f"{logs['loss']:.6g}")
        return False

    model.set_params(callbacks=[report])
    try:
        with progress, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("always", KernelCacheWarning)
            warnings.simplefilter("ignore", FitInterruptedWarning)  # said by fit() itself
            model.fit(X, y)
    except ValueError as err:  # the estimator refused the data or a setting
        raise UserError(one_line(err)) from err
    finally:
        model.set_params(callbacks=None)
    for message in dict.fromkeys(str(w.message) for w in caught):
        echo(f"warning: {one_line(message)}", err=True)
    return model


def _interrupted(model) -> bool:
    """Whether a first Ctrl-C ended the fit; with no epoch complete there is nothing to keep."""
    if model.history_.stopped != "interrupted":
        return False
    if model.n_iter_ == 0:
        echo("error: interrupted (Ctrl-C) before the first epoch ended: nothing to keep "
             "or save", err=True)
        click.get_current_context().exit(130)
    return True


def _split(X, y, test_size: float, random_state: int, model):
    """Training and test rows as scikit-learn's ``train_test_split`` makes them (test rows:
    ``ceil(test_size * n)``), refusing a split that cannot train or be scored; a
    classifier's split is stratified, so each class keeps its share on both sides."""
    from sklearn.model_selection import train_test_split

    n = len(y)
    n_test = math.ceil(test_size * n)
    n_train = n - n_test
    option = f"--test-size {test_size:g}"
    if n_train < 1:
        raise UserError(f"{option} holds out all {n} rows and leaves no rows for training; "
                        "use a smaller --test-size, such as 0.25")
    stratify = None
    if _is_classifier(model):
        labels, counts = np.unique(y, return_counts=True)
        if counts.min() < 2:
            raise UserError(f"class {_label(labels[np.argmin(counts)])} has only 1 row, so "
                            "--test-size cannot put it in both the training and the test "
                            "rows; add rows of that class, drop its row, or leave out "
                            "--test-size")
        if n_train < len(labels):
            raise UserError(f"{option} leaves {n_train} row(s) for training, fewer than the "
                            f"{len(labels)} classes; use a smaller --test-size, such as 0.25")
        if n_test < len(labels):
            raise UserError(f"{option} holds out {n_test} row(s), fewer than the "
                            f"{len(labels)} classes; use a larger --test-size")
        stratify = y
    elif n_test < 2:
        raise UserError(f"{option} holds out {n_test} of {n} rows, but R^2 needs at least 2; "
                        f"use a larger --test-size (at least {2 / n:.2g})")
    return train_test_split(X, y, test_size=test_size, random_state=random_state,
                            stratify=stratify)


def _label(value) -> str:
    """A class label as the user wrote it: 'cat', '3'."""
    return repr(f"{value:g}" if isinstance(value, float | np.floating) else str(value))


def _score_name(model) -> str:
    return "accuracy" if _is_classifier(model) else "R^2"


@main.command()
@click.argument("data", type=click.Path(dir_okay=False))
@model_options
@click.option("--save", "save_path", type=click.Path(dir_okay=False),
              help="Write the fitted model to this file (read it with `descent predict`).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False),
              help="Draw the loss by epoch into this PNG file.")
@click.option("--test-size", type=FiniteFloat(0, 1, min_open=True, max_open=True),
              help="Hold out this share of the rows (between 0 and 1, e.g. 0.25) and report "
              "the score on them; classes keep their shares (a stratified split).")
@output_options
def fit(data, target, model_name, random_state, save_path, plot_path, test_size, quiet,
        as_json, **options):
    """Train a model on DATA (CSV with or without a header, or Parquet).

    \b
    Example:
      descent fit data.csv --target 8 --model logistic --save diabetes.descent
    """
    refuse_clashes({"data file": data}, {"--save": save_path, "--plot": plot_path})
    model = build_model(model_name, random_state, options)
    for path, what in ((save_path, "model file"), (plot_path, "plot")):
        if path:
            writable_target(path, what)  # fail before training, not after
    table = _load_training_data(data, target, model)
    X, y = table.X, table.y
    X_test = y_test = None
    if test_size:
        X, X_test, y, y_test = _split(X, y, test_size, random_state, model)
    started = time.perf_counter()
    _fit(model, X, y, show_progress=not (quiet or as_json))
    seconds = time.perf_counter() - started
    interrupted = _interrupted(model)
    result = {
        "model": model_name, "data": str(data), "rows": int(len(table.X)),
        "features": len(table.feature_names), "target": table.target_name,
        "epochs": int(model.n_iter_), "final_loss": float(model.history_.loss[-1]),
        "score_name": _score_name(model), "train_score": float(model.score(X, y)),
        "seconds": round(seconds, 4), "stopped": model.history_.stopped,
    }
    if X_test is not None:
        result["test_score"] = float(model.score(X_test, y_test))
    if save_path:
        from ..model_io import save

        model.data_columns_ = {"features": table.feature_names, "target": table.target_name,
                               "header": table.has_header}
        result["saved"] = str(write_atomically(save_path, lambda file: save(model, file),
                                               "model file", replaces_itself=True))
    if plot_path:
        from ..plot import plot_loss

        fig = plot_loss(model.history_, title=f"{model_name} on {Path(data).name}: loss by epoch")
        result["plot"] = str(save_figure(fig, plot_path))
    if as_json:
        print_json(result)
    elif not quiet:
        rows = [("model", model_name), ("data", f"{result['rows']} rows x "
                f"{result['features']} features, target {table.target_name!r}"),
                ("epochs", result["epochs"]), ("stopped", result["stopped"]),
                ("final loss", result["final_loss"]),
                (f"training {result['score_name']}", result["train_score"])]
        if "test_score" in result:
            rows.append((f"test {result['score_name']}", result["test_score"]))
        rows.append(("time", f"{seconds:.2f} s"))
        rows += [(k, result[k]) for k in ("saved", "plot") if k in result]
        print_table("fit", rows)
    if interrupted:  # what was kept is above (and saved with --save, marked interrupted)
        echo(f"interrupted (Ctrl-C) after {model.n_iter_} epoch(s): kept the model trained "
             f"so far{'; saved it' if save_path else ''}", err=True)
        click.get_current_context().exit(130)  # 128 + SIGINT, as a shell reports it


@main.command()
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False))
@click.argument("data", type=click.Path(dir_okay=False))
@click.option("--out", "out_path", type=click.Path(dir_okay=False),
              help="Write the predictions as CSV to this file (default: print them).")
@output_options
def predict(model_path, data, out_path, quiet, as_json):
    """Predict every row of DATA with a model saved by ``descent fit --save``.

    The predictions are CSV (labels holding commas, quotes or newlines are quoted); on a
    terminal, control characters in labels are shown as escapes such as \\x1b.
    """
    from ..model_io import load

    refuse_clashes({"model file": model_path, "data file": data}, {"--out": out_path})
    readable_input(model_path, "model file",
                   f"train one with: descent fit DATA --target T --model M --save {model_path}")
    try:
        model = load(model_path)
    except OSError as err:
        raise UserError(f"cannot read model file '{model_path}': {err.strerror or err}") \
            from err
    if out_path:
        writable_target(out_path, "predictions file")
    X = _read_features(model, model_path, data)
    try:
        predictions = model.predict(X)
    except ValueError as err:
        raise UserError(one_line(err)) from err
    rows = [_csv_row(["prediction"])] + [_csv_row([_cell(p)]) for p in predictions.tolist()]
    if out_path:
        write_atomically(Path(out_path), lambda file: Path(file).write_text(
            "".join(rows), encoding="utf-8", newline=""), "predictions file")
    if as_json:
        payload = {"rows": len(predictions), "out": out_path}
        if not out_path:
            payload["predictions"] = predictions.tolist()
        print_json(payload)
    elif not out_path:
        _print_csv(rows)
    elif not quiet and not is_stream(out_path):  # a stream (/dev/stdout) holds just the CSV
        echo(f"wrote {len(predictions)} predictions to {out_path}")


def _cell(prediction) -> str:
    if isinstance(prediction, float):
        return f"{prediction:.10g}"
    return str(prediction)


def _csv_row(fields: list[str]) -> str:
    """One CSV record, quoted where a field holds a comma, a quote or a line break."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(fields)
    return buffer.getvalue()


def _print_csv(rows: list[str]) -> None:
    """The CSV as is into a pipe or file; on a terminal, control characters escaped."""
    if sys.stdout.isatty():
        for row in rows:
            click.echo(printable(row[:-1]))  # the record's own line break is kept
        return
    sys.stdout.flush()
    sys.stdout.buffer.write("".join(rows).encode("utf-8"))
    sys.stdout.buffer.flush()


def _read_features(model, model_path, data: str) -> np.ndarray:
    """The model's feature columns from DATA: by name if it was fitted on a file with a
    header, by position if not (the target column may be present); never a mix."""
    columns = _data_columns(model, model_path)
    n_features = model.n_features_in_
    try:
        if not columns:  # a model saved from Python: take the columns as they come
            table = read_table(data)
        elif columns["header"]:
            table = read_table(data, columns=columns["features"], header=True)
        else:
            table = _read_by_position(data, columns["features"])
    except HeaderError as err:
        how = "with a header, so it finds columns by name" if columns["header"] else \
            "without a header, so it finds columns by position"
        raise UserError(f"the model in '{model_path}' was trained on a file {how}: {err}") \
            from err
    if table.X.shape[1] != n_features:
        raise UserError(f"'{data}' has {table.X.shape[1]} feature columns but the model was "
                        f"trained on {n_features}; give the same columns as when fitting")
    return table.X


def _data_columns(model, model_path) -> dict | None:
    """What ``fit --save`` recorded of the training file's columns, checked: a model file
    is input like any other, and a hand-edited record must not crash ``predict``."""
    columns = getattr(model, "data_columns_", None)
    if columns is None:
        return None
    features = columns.get("features") if isinstance(columns, dict) else None
    if not (isinstance(features, list) and len(features) == model.n_features_in_
            and all(isinstance(name, str) for name in features)
            and isinstance(columns.get("header"), bool)):
        raise UserError(f"model file '{model_path}' is damaged: its record of the training "
                        "file's columns (data_columns_) is malformed; save the model again")
    return columns


def _read_by_position(data: str, features: list[str]):
    """A file without a header: the fitted positions ("0", "2", ...) when the file has them
    all (the target column may be there, even as text), else every column, in order."""
    try:
        return read_table(data, columns=features, header=False)
    except HeaderError:
        raise
    except DataError:  # fewer columns: the target (or more) was left out
        return read_table(data, header=False)


@main.command("lr-find")
@click.argument("data", type=click.Path(dir_okay=False))
@model_options
@click.option("--trial-epochs", type=click.IntRange(min=1), default=5, show_default=True,
              help="Epochs trained at each learning rate.")
@click.option("--min-rate", type=FiniteFloat(min=0, min_open=True), default=1e-5,
              show_default=True)
@click.option("--max-rate", type=FiniteFloat(min=0, min_open=True), default=10.0,
              show_default=True)
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False),
              help="Draw loss against learning rate into this PNG file.")
@output_options
def lr_find_command(data, target, model_name, random_state, trial_epochs, min_rate, max_rate,
                    plot_path, quiet, as_json, **options):
    """Try learning rates from --min-rate to --max-rate on DATA and suggest one."""
    refuse_clashes({"data file": data}, {"--plot": plot_path})
    if min_rate >= max_rate:
        raise UserError(f"--min-rate ({min_rate:g}) must be below --max-rate ({max_rate:g})")
    if options.get("learning_rate") is not None:
        raise UserError("lr-find chooses the learning rate itself; leave out --learning-rate")
    model = build_model(model_name, random_state, options)
    if plot_path:
        writable_target(plot_path, "plot")
    table = _load_training_data(data, target, model)
    rates = np.logspace(np.log10(min_rate), np.log10(max_rate), 25)
    try:
        found = lr_find(model, table.X, table.y, rates=rates, epochs=trial_epochs)
    except ValueError as err:
        raise UserError(one_line(err)) from err
    result = {"model": model_name, "epochs_per_rate": trial_epochs,
              "rates": found.rates, "losses": [None if d else float(v) for v, d in
                                              zip(found.losses, found.diverged, strict=True)],
              "suggested_learning_rate": found.suggested}
    if plot_path:
        from ..plot import plot_lr_find

        result["plot"] = str(save_figure(plot_lr_find(found), plot_path))
    if as_json:
        print_json(result)
        return
    if not quiet:
        rows = [(f"{r:.3g}", "diverged" if d else f"{v:.6g}")
                for r, v, d in zip(found.rates, found.losses, found.diverged, strict=True)]
        print_table(f"loss after {trial_epochs} epochs, by learning rate", rows)
    click.echo(f"suggested learning rate: {found.suggested:.3g}")
