//[title: hello]
//[author: isobot]
//[version: 1.0.0]
//[description: Answers "hello" (or "hi") with a greeting that uses the sender's name.]
//[rule: ^(hello|hi)$]
//[rule: hello ?]
const { Sender, getSenderID } = require('./middleware.js');

const s = new Sender(getSenderID());
const name = await s.getUserName();
const who = await s.param(1);
await s.reply(`Hello, ${name || 'friend'}!` + (who && who !== 'hello' && who !== 'hi' ? ` (you said: ${who})` : ''));
