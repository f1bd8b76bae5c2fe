// "Select all matches on this page" for the queue's tick boxes. The box is in the table's
// header, hidden until this script shows it (without JavaScript each row is ticked alone,
// and the allocate form works the same). Ticking it ticks every row's box; ticking or
// clearing a row's box keeps it in step (checked when all are, mixed when some are).
//
// Loaded as an ES module at the end of <body> (the CSP forbids inline scripts).
const all = document.getElementById('select-all')
if (all) {
  const rows = Array.from(document.querySelectorAll('input[name="match"][form="bulk-allocate"]'))
  const sync = () => {
    const ticked = rows.filter((box) => box.checked).length
    all.checked = ticked === rows.length && rows.length > 0
    all.indeterminate = ticked > 0 && ticked < rows.length
  }
  all.closest('.govuk-checkboxes').hidden = false
  all.addEventListener('change', () => {
    rows.forEach((box) => { box.checked = all.checked })
    sync()
  })
  rows.forEach((box) => box.addEventListener('change', sync))
  sync()
}
