"""``/demo/shop``: a tiny storefront over the demo catalogue that includes the
binding widget, so a newcomer can try the whole round trip with the sandbox chat."""
