// A receiver written from the Jasni docs' Express example, on Node's own http
// module so that it needs no npm install: raw body, hex HMAC-SHA256 with the
// secret, crypto.timingSafeEqual, 401 on a mismatch, 200 "OK" otherwise.
// It prints "listening PORT" once ready and one line per delivery.
const http = require('http');
const crypto = require('crypto');

const secret = process.env.WEBHOOK_SECRET;

function verifySignature(payload, signature, secret) {
  const expected = crypto.createHmac('sha256', secret).update(payload).digest('hex');
  const a = Buffer.from(signature || '');
  const b = Buffer.from(expected);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/webhooks/jasni') {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const payload = Buffer.concat(chunks).toString();
    if (!verifySignature(payload, req.headers['x-webhook-signature'], secret)) {
      console.log('rejected');
      res.writeHead(401).end('Invalid signature');
      return;
    }
    const event = JSON.parse(payload);
    console.log('received ' + event.event + ' ' + req.headers['x-webhook-event']);
    res.writeHead(200).end('OK');
  });
});

server.listen(0, '127.0.0.1', () => {
  console.log('listening ' + server.address().port);
});
