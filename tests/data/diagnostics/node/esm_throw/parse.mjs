export function parseBody(text) {
  const data = JSON.parse(text);
  return data;
}
