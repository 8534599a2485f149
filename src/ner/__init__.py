"""Named-entity recognition with flair: tokens with offsets, recipes, training, prediction,
evaluation and model files. Nothing here downloads anything at run time."""

import os

# Read when huggingface_hub is first imported (flair imports it): models come from local
# folders only, and the hub is never asked.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
