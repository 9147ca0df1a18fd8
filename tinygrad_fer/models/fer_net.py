"""The FER "Deep Learning" lab's CIFAR-10 convnet."""
from .. import nn


class FERNet(nn.Module):
    """conv(16, 5x5, pad 2)-ReLU-maxpool(3, 2)-conv(32, 5x5, pad 2)-ReLU-maxpool(3, 2)-fc256-ReLU-fc128-ReLU-fc10.

    The layer names (conv1, pool1, ..., fc3) are the keys of its state_dict, so checkpoints depend on them."""

    def __init__(self, in_channels=3, num_classes=10, image_size=32):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 16, 5, padding=2)
        self.pool1 = nn.MaxPool2d(3, stride=2)
        self.conv2 = nn.Conv2d(16, 32, 5, padding=2)
        self.pool2 = nn.MaxPool2d(3, stride=2)
        side = ((image_size - 3) // 2 + 1 - 3) // 2 + 1      # 32 -> 15 -> 7
        if side < 1:
            raise ValueError(f"FERNet: image_size {image_size} is too small for two 3x3 stride-2 poolings "
                             f"(at least 7 needed)")
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(32 * side * side, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, num_classes)
        self.relu1, self.relu2, self.relu3, self.relu4 = nn.ReLU(), nn.ReLU(), nn.ReLU(), nn.ReLU()

    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = self.relu3(self.fc1(self.flatten(x)))
        return self.fc3(self.relu4(self.fc2(x)))


def fer_net(**kwargs):
    """FERNet(**kwargs): in_channels=3, num_classes=10, image_size=32."""
    return FERNet(**kwargs)
