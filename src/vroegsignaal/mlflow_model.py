"""The MLflow pyfunc model, logged from code (MLflow's "models from code").

:func:`vroegsignaal.tracking.log_training_run` logs this file instead of a pickled Python object: MLflow copies it
into the model and runs it when the model is loaded, so nothing in a logged model is unpickled. That keeps the
registry as safe to load from as the model bundle itself, which holds no pickles either.
"""

import mlflow

from vroegsignaal.tracking import BundleModel

mlflow.models.set_model(BundleModel())
