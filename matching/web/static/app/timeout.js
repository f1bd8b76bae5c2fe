// The session timeout warning (WCAG 2.2.1, Timing Adjustable): two minutes before the
// session's idle limit, show the "Stay signed in" banner and move focus to it. Staying
// renews the session without leaving the page, so nothing typed is lost; doing nothing
// lets the limit pass, and the page then goes to sign in.
//
// Loaded as an ES module at the end of <body> for signed-in users (the CSP forbids inline
// scripts). Without JavaScript the banner stays hidden; its form still works.
const banner = document.getElementById('app-timeout')
if (banner) {
  const idle = Number(banner.dataset.idleSeconds) * 1000
  const warn = Math.min(Number(banner.dataset.warnSeconds) * 1000, idle / 2)
  const form = banner.querySelector('form')
  let warnTimer, endTimer

  const start = () => {
    clearTimeout(warnTimer)
    clearTimeout(endTimer)
    warnTimer = setTimeout(() => {
      banner.hidden = false
      banner.focus()
    }, idle - warn)
    endTimer = setTimeout(() => {
      // Back to this page, or to the page its form is on when it answers a form (the server's
      // return address: a form's own address answers only POST).
      window.location.assign(banner.dataset.signIn + '?next=' + encodeURIComponent(banner.dataset.returnTo))
    }, idle + 5000)
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const response = await fetch(form.action, {
      method: 'POST', body: new FormData(form), headers: { 'X-Requested-With': 'fetch' }, credentials: 'same-origin'
    })
    if (response.ok) {
      banner.hidden = true
      start()
    } else {
      form.submit()
    }
  })
  start()
}
