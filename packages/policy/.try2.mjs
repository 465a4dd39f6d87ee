import { findPhoneNumbersInText } from 'libphonenumber-js/max';
import { isValidIBAN, electronicFormatIBAN } from 'ibantools';
const ts = ['Call me at (415) 555-2671 tomorrow', 'intl +44 20 7946 0958 ok', 'order 2024-05-01 12:30:45', 'ver 1.2.3.4', 'id 123e4567-e89b-12d3-a456-426614174000', 'card 4111 1111 1111 1111', '+49 30 901820', '030 901820', '415.555.2671', 'ORD-20240501-0042', '4155552671', 'took 1234567 ms'];
for (const t of ts) console.log(t, JSON.stringify(findPhoneNumbersInText(t, { defaultCountry: 'US' }).map(f => [f.startsAt, f.endsAt, f.number.number])));
console.log(isValidIBAN('DE89370400440532013000'), electronicFormatIBAN('DE89 3704 0044 0532 0130 00'));
let s = 'The quick brown fox 415-555-2671 jumps. '.repeat(2000);
let t0 = performance.now(); for (let i=0;i<5;i++) findPhoneNumbersInText(s, {defaultCountry:'US'}); console.log('MB/s', s.length*5/1e6/((performance.now()-t0)/1000));
t0 = performance.now(); for (let i=0;i<20000;i++) findPhoneNumbersInText('415-555-2671', {defaultCountry:'US'}); console.log('per cand us', (performance.now()-t0)/20000*1000);
