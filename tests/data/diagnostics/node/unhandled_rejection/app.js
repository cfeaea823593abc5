function connect(url) {
  return Promise.reject(new Error(`connection refused: ${url}`));
}

console.log('connecting');
connect('postgres://db:5432/app');
