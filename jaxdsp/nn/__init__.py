"""Neural networks on audio features: Flax NNX models, optax losses and training, logging, checkpoints.

Models map ``(..., in_features)`` (dense) or log-mel ``(batch, n_mels, n_frames)`` (``CNN``) to
outputs; every model takes ``*, rngs: nnx.Rngs`` and can be built ``from_weights``. Training is
``fit(model, train, val, loss=..., optimizer=..., epochs=...)`` with a jitted step, TensorBoard
logging (``log_dir``), orbax checkpoints (``checkpoint_dir``), on-device augmentation
(``augment=``, see ``jaxdsp.nn.augment``) and data parallelism over every device (``devices=``).
"""

from jaxdsp.nn import augment
from jaxdsp.nn.checkpoint import CheckpointError
from jaxdsp.nn.checkpoint import latest_step
from jaxdsp.nn.checkpoint import restore_checkpoint
from jaxdsp.nn.checkpoint import save_checkpoint
from jaxdsp.nn.cqt import LearnableCQT
from jaxdsp.nn.frontends import FeatureStack
from jaxdsp.nn.frontends import Leaf
from jaxdsp.nn.frontends import LearnableMel
from jaxdsp.nn.frontends import LogMel
from jaxdsp.nn.frontends import MorletFilterbank
from jaxdsp.nn.frontends import SmoothZCR
from jaxdsp.nn.frontends import SoftEnvelope
from jaxdsp.nn.frontends import filter_movement
from jaxdsp.nn.frontends import filter_movement_callback
from jaxdsp.nn.frontends import frontend_optimizer
from jaxdsp.nn.logging import TensorBoardLogger
from jaxdsp.nn.logging import confusion_matrix
from jaxdsp.nn.losses import binary_cross_entropy
from jaxdsp.nn.losses import cross_entropy
from jaxdsp.nn.losses import get_loss
from jaxdsp.nn.losses import l1_loss
from jaxdsp.nn.losses import mse_loss
from jaxdsp.nn.models import CNN
from jaxdsp.nn.models import DeepNet
from jaxdsp.nn.models import Perceptron
from jaxdsp.nn.models import ShallowNet
from jaxdsp.nn.models import count_params
from jaxdsp.nn.pcen import PCEN
from jaxdsp.nn.train import NonFiniteLossError
from jaxdsp.nn.train import evaluate
from jaxdsp.nn.train import fit
from jaxdsp.nn.train import label_params
from jaxdsp.nn.train import make_optimizer
from jaxdsp.nn.train import train_step

__all__ = [
    "CNN",
    "CheckpointError",
    "DeepNet",
    "FeatureStack",
    "Leaf",
    "LearnableCQT",
    "LearnableMel",
    "LogMel",
    "MorletFilterbank",
    "NonFiniteLossError",
    "PCEN",
    "Perceptron",
    "ShallowNet",
    "SmoothZCR",
    "SoftEnvelope",
    "TensorBoardLogger",
    "augment",
    "binary_cross_entropy",
    "confusion_matrix",
    "count_params",
    "cross_entropy",
    "evaluate",
    "filter_movement",
    "filter_movement_callback",
    "fit",
    "frontend_optimizer",
    "get_loss",
    "l1_loss",
    "label_params",
    "latest_step",
    "make_optimizer",
    "mse_loss",
    "restore_checkpoint",
    "save_checkpoint",
    "train_step",
]
