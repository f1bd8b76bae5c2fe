// Initialise GOV.UK Frontend components.
//
// Load at the end of <body> as an ES module (the CSP forbids inline scripts):
//   <script type="module" src="{% static 'govuk/init.js' %}"></script>
//
// This stands in for GOV.UK Frontend's inline snippet
//   document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' govuk-frontend-supported' : '')
// followed by `import { initAll } from '.../govuk-frontend.min.js'; initAll()`.
// Any browser that runs a module script is "supported", so both classes are
// added unconditionally; the class must be present before initAll(), which
// checks it via isSupported().
import { initAll } from './govuk-frontend.min.js'

document.body.classList.add('js-enabled', 'govuk-frontend-supported')
initAll()
