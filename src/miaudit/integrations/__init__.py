"""Where miaudit meets other tools: GitHub Actions, MLflow, pytest."""
