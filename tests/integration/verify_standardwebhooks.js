// Verifies recorded webhook requests with the independent `standardwebhooks` npm package.
// stdin: [{"secret": "<base64>", "headers": {...}, "body": "..."}]; prints "N verified" or
// exits 1 naming the first request that fails.
const { Webhook } = require("standardwebhooks");

let input = "";
process.stdin.on("data", (c) => (input += c));
process.stdin.on("end", () => {
  const requests = JSON.parse(input);
  requests.forEach((r, i) => {
    const wh = new Webhook(r.secret);
    try {
      wh.verify(r.body, {
        "webhook-id": r.headers["webhook-id"],
        "webhook-timestamp": r.headers["webhook-timestamp"],
        "webhook-signature": r.headers["webhook-signature"],
      });
    } catch (e) {
      console.error(`request ${i} (${r.headers["webhook-id"]}): ${e.message}`);
      process.exit(1);
    }
  });
  console.log(`${requests.length} verified`);
});
