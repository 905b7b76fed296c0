"""rotator: rotate OpenAI service-account keys held in AWS Secrets Manager."""
