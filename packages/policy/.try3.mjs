import { loadModule, parsePlPgSQLSync } from 'libpg-query';
await loadModule();
console.log(JSON.stringify(parsePlPgSQLSync(`CREATE FUNCTION pg_temp.f() RETURNS void LANGUAGE plpgsql AS $x$ DECLARE v text; BEGIN v := pg_read_file('/etc/passwd'); PERFORM 1; DELETE FROM t; EXECUTE 'drop table x'; IF (select count(*) from t) > 0 THEN truncate t; END IF; END $x$`), null, 0));
