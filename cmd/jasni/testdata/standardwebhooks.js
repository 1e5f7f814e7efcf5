// A receiver that verifies with the reference Standard Webhooks library
// (npm standardwebhooks), as its README shows. It prints "listening PORT",
// then "verified TYPE" or "rejected: REASON" for each delivery.
const http = require('http');
const { Webhook } = require('standardwebhooks');

const wh = new Webhook(process.env.WEBHOOK_SECRET);
http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const payload = Buffer.concat(chunks).toString();
    try {
      const event = wh.verify(payload, req.headers);
      console.log('verified ' + event.type);
      res.writeHead(204).end();
    } catch (err) {
      console.log('rejected: ' + err.message);
      res.writeHead(400).end();
    }
  });
}).listen(0, '127.0.0.1', function () {
  console.log('listening ' + this.address().port);
});
