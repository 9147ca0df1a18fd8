"""torch.nn's names: Module and its bookkeeping, the layers, the losses, `functional`, `init` and `utils`."""
from . import functional, init, utils  # noqa: F401
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter  # noqa: F401
from .module import Module  # noqa: F401
from .container import Sequential, ModuleList, ModuleDict  # noqa: F401
from .linear import Linear, Identity  # noqa: F401
from .conv import (Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, Fold,  # noqa: F401
                   Unfold)
from .pooling import (MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d, AdaptiveAvgPool1d, AdaptiveAvgPool2d,  # noqa: F401
                      AdaptiveMaxPool1d, AdaptiveMaxPool2d, MaxPool3d, AvgPool3d, AdaptiveAvgPool3d, AdaptiveMaxPool3d,
                      MaxUnpool1d, MaxUnpool2d, MaxUnpool3d, LPPool1d, LPPool2d, LPPool3d)
from .normalization import BatchNorm1d, BatchNorm2d, SyncBatchNorm  # noqa: F401
from .activation import ReLU, ReLU6, LeakyReLU, ELU, Sigmoid, Tanh, SiLU, Softplus, Softmax, LogSoftmax  # noqa
from .activation import (LogSigmoid, Hardtanh, GELU, SELU, CELU, Mish, Hardswish, Hardsigmoid, Softsign,  # noqa
                         Tanhshrink, Softmin, GLU, Softshrink, Hardshrink, Threshold, PReLU)
from .dropout import Dropout, Dropout2d  # noqa: F401
from .flatten import Flatten, Unflatten  # noqa: F401
from .lazy import (LazyLinear, LazyConv2d, LazyConvTranspose2d, LazyBatchNorm1d, LazyBatchNorm2d,  # noqa: F401
                   LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d)
from .normalization_layers import (LayerNorm, GroupNorm, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d,  # noqa
                                   LocalResponseNorm, RMSNorm, BatchNorm3d, CrossMapLRN2d)
from .embedding import Embedding, EmbeddingBag, Dropout1d, Dropout3d, AlphaDropout, FeatureAlphaDropout  # noqa
from .attention import MultiheadAttention  # noqa: F401
from .misc_layers import Bilinear, RReLU, Softmax2d, ParameterList, ParameterDict  # noqa: F401
from .adaptive import AdaptiveLogSoftmaxWithLoss  # noqa: F401
from .lazy import LazyBatchNorm3d, LazyConv1d, LazyConv3d, LazyConvTranspose1d, LazyConvTranspose3d  # noqa: F401
from .padding import (ZeroPad1d, ZeroPad2d, ZeroPad3d, ConstantPad1d, ConstantPad2d, ConstantPad3d,  # noqa: F401
                      ReflectionPad1d, ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d,
                      ReplicationPad3d, CircularPad1d, CircularPad2d, CircularPad3d)
from .transformer import (Transformer, TransformerEncoder, TransformerDecoder, TransformerEncoderLayer,  # noqa
                          TransformerDecoderLayer)
from .rnn import RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell, GRUCell  # noqa: F401
from .resample import (Upsample, UpsamplingNearest2d, UpsamplingBilinear2d, PixelShuffle, PixelUnshuffle,  # noqa
                       ChannelShuffle)
from .loss_more import (SmoothL1Loss, HuberLoss, KLDivLoss, SoftMarginLoss, MultiLabelSoftMarginLoss,  # noqa
                        HingeEmbeddingLoss, MarginRankingLoss, CosineEmbeddingLoss, TripletMarginLoss,
                        PoissonNLLLoss, GaussianNLLLoss, PairwiseDistance, MultiLabelMarginLoss, CosineSimilarity,
                        TripletMarginWithDistanceLoss, NLLLoss2d, CTCLoss)
from .loss import (CrossEntropyLoss, NLLLoss, MSELoss, L1Loss, BCELoss, BCEWithLogitsLoss,  # noqa: F401
                   MultiMarginLoss)
from .parallel import DataParallel, DistributedDataParallel  # noqa: F401,E402
