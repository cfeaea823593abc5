function formatUser(user) {
  return user.name.toUpperCase();
}

module.exports = { formatUser };
