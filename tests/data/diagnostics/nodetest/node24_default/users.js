function displayName(user) {
  return user.profile.name.trim();
}

module.exports = { displayName };
