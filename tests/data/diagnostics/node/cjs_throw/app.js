const { formatUser } = require('./lib/format');

function handle(req) {
  const user = req.user;
  return formatUser(user);
}

console.log('listening on 0.0.0.0:3000');
handle({});
