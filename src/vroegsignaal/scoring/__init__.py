"""Model runtime shared by training and the service: feature building, model bundles and scoring."""
