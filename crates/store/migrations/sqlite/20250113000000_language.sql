-- A user's own choice of language (a BCP 47 tag: en, de, fr, es, pt-BR); NULL follows the browser.
ALTER TABLE users ADD COLUMN language TEXT;
