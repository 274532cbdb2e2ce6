"""The other AWS services a template's functions use (DynamoDB today), served locally by moto."""
