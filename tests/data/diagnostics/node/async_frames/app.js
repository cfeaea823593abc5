async function fetchUser(id) {
  await new Promise((r) => setTimeout(r, 1));
  if (id < 0) {
    throw new RangeError(`invalid user id ${id}`);
  }
  return { id };
}

async function handler() {
  const user = await fetchUser(-1);
  return user;
}

async function main() {
  await handler();
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
