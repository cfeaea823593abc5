const express = null;

function start(port) {
  console.log('starting on', port;
}

start(3000);
