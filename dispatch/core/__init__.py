"""Infrastructure every package may use: settings, extensions, database and unit of work, logs,
errors, i18n, templating, mail, sms (the SMS gateway behind one interface), audit, phones, geo,
clock, ids, security headers, safe CSV, the publisher. Imports only core and models; never a
domain or feature package."""
