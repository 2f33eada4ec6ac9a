"""The storefront binding widget: ``/widget/binding.js``, its settings and CSS,
and CORS for the shop origins that call the binding-code API."""
