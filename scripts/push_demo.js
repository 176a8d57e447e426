//[title: push demo]
//[author: isobot]
//[version: 1.0.0]
//[description: "broadcast TEXT" pushes TEXT to a QQ group (through the receiving account when the message came from QQ), to a Telegram chat (cross-IM: Telegram's default account) and to a WeChat user with an explicit account_id.]
//[rule: broadcast ?]
//[admin: true]
const { Sender, getSenderID, push, pushImage } = require('./middleware.js');

const s = new Sender(getSenderID());
const text = await s.param(1);

// Same IM as the message → the account that received it; other IMs → their default account.
const qq = await push('qq', '100200300', '', 'broadcast', text);
const tg = await push('telegram', '', '5551234', 'broadcast', text);
// An explicit account wins over every other rule (account_id > accountID > accountId).
const wx = await push('weixin', '', 'wxid_friend', 'broadcast', text, { account_id: 'console' });
// Media: URL, a path relative to this folder, base64:// or a data: URL.
await pushImage('qq', '100200300', '', 'picture', 'https://example.com/cat.png');

await s.reply(`sent to ${qq + tg + wx} chats`);
