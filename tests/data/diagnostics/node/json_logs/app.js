// Logs one JSON object per line with the error under err.stack, the way pino does.
function log(level, msg, extra) {
  process.stdout.write(JSON.stringify({ level, time: 1700000000000, msg, ...extra }) + '\n');
}

function total(items) {
  return items.reduce((sum, it) => sum + it.price.amount, 0);
}

log(30, 'request received');
try {
  total([{ price: { amount: 1 } }, {}]);
} catch (err) {
  log(50, 'request failed', { err: { type: err.name, message: err.message, stack: err.stack } });
}
log(30, 'error handler finished');
