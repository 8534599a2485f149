"""Named-entity recognition with flair: tokens with offsets, recipes, training, prediction,
evaluation and model files. Nothing here downloads anything at run time."""
