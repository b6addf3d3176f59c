// The Admin UI's one stylesheet, served as a file of its own: the Content-Security-Policy allows no inline style.
export const STYLESHEET_TEXT = `*,*::before,*::after{box-sizing:border-box}
html{font:16px/1.5 system-ui,sans-serif;color:#1a1a1a;background:#fff}
body{margin:0}
.skip{position:absolute;left:-9999px;top:0;background:#fff;padding:.5rem 1rem}
.skip:focus{left:1rem;z-index:1}
:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}
header.site{display:flex;flex-wrap:wrap;align-items:center;gap:1rem 2rem;padding:.5rem 1.5rem;background:#f1f5f9;border-bottom:1px solid #cbd5e1}
.brand{font-weight:700;margin:0}
nav ul{display:flex;gap:1.25rem;list-style:none;margin:0;padding:0}
.sign-out{margin-left:auto;display:flex;gap:.75rem;align-items:center}
main{padding:1rem 1.5rem 3rem;max-width:75rem}
main:focus{outline:none}
h1{font-size:1.5rem;margin:.5rem 0 1rem;overflow-wrap:anywhere}
h2{font-size:1.2rem;margin-top:2rem}
a{color:#1d4ed8}
.address{font-family:ui-monospace,monospace;font-size:.95em}
table{border-collapse:collapse;width:100%;margin:1rem 0}
caption{text-align:left;font-weight:600;padding-bottom:.25rem}
th,td{text-align:left;vertical-align:top;padding:.4rem .6rem;border-bottom:1px solid #e2e8f0}
thead th{background:#f8fafc;border-bottom:2px solid #cbd5e1}
tbody th{font-weight:400;font-family:ui-monospace,monospace;font-size:.9em;overflow-wrap:anywhere}
td.reason{overflow-wrap:anywhere}
.stack{display:flex;flex-direction:column;gap:.35rem;max-width:36rem}
.stack label{font-weight:600;margin-top:.5rem}
.search{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
input,textarea,button{font:inherit;padding:.4rem .6rem;border:1px solid #64748b;border-radius:4px}
input[aria-invalid=true],textarea[aria-invalid=true]{border:2px solid #b91c1c}
button,.button{background:#1d4ed8;color:#fff;border-color:#1d4ed8;cursor:pointer;text-decoration:none;display:inline-block;padding:.4rem .9rem;border-radius:4px}
.sign-out button{background:#fff;color:#1d4ed8}
.actions{display:flex;gap:1rem;align-items:center;margin-top:1rem}
.hint{margin:0;color:#475569;font-size:.9rem}
.error{color:#b91c1c;font-weight:600;margin:0}
.notice{background:#ecfdf5;border:1px solid #047857;padding:.5rem 1rem}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}
.facts dt{font-weight:600}
.facts dd{margin:0}
.status{font-weight:700;padding:0 .3rem;border-radius:3px}
.status.waiting{background:#fef3c7}
.status.approved,.status.tobedeleted{background:#fee2e2}
.status.deleted{background:#1f2937;color:#fff}
.status.ended,.status.active{background:#e2e8f0}
.pager{display:flex;gap:1rem;align-items:baseline}
.refresh{color:#475569;font-size:.9rem}
`;
