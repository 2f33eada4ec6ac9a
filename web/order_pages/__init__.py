"""The customer's order page (``/o/<token>``): read the order, confirm it, upload
a transfer proof. Reached only through the secret link sent into the chat."""
