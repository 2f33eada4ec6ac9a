"""Application services: each public method is one business action in one transaction."""
