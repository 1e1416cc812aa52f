-- Just the extension, for workloads that make their own data.
\set ON_ERROR_STOP on
CREATE EXTENSION plum;
