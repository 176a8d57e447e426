//[title: daily check-in (es5)]
//[author: isobot]
//[version: 1.0.0]
//[description: A legacy es5-style plugin: injected globals, synchronous calls. "checkin" counts the user's days; "checkin reset" asks before it forgets them.]
//[rule: ^checkin( reset)?$]
// No require: es5 plugins call the globals of docs/es5.md directly, and they block (bucketGet
// returns the value, input() waits for the next message) without stalling any other run.
var user = GetUserID();
var today = timeFmt('yyyy-MM-dd');

if (param(1) === ' reset') {
  sendText('Forget your ' + (bucketGet('checkin', user) || '0') + ' day(s)? Answer yes or no.');
  var answer = input(30000); // '' when nobody answers in 30 s
  if (answer === 'yes') {
    bucketDel('checkin', user);
    bucketDel('checkin_last', user);
    sendText('Forgotten.');
  } else {
    sendText('Kept.');
  }
} else if (bucketGet('checkin_last', user) === today) {
  sendText('Already checked in today (' + bucketGet('checkin', user) + ' day(s) in all).');
} else {
  var days = Number(bucketGet('checkin', user) || '0') + 1;
  bucketSet('checkin', user, String(days));
  bucketSet('checkin_last', user, today);
  Debug('check-in of', user, 'day', days);
  sendText('Checked in, ' + (GetUsername() || 'friend') + ': day ' + days + '.');
}
