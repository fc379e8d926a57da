"use strict";
var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.createTestDatabase = createTestDatabase;
const node_crypto_1 = require("node:crypto");
const node_fs_1 = require("node:fs");
const node_os_1 = require("node:os");
const node_path_1 = require("node:path");
const pg_1 = __importDefault(require("pg"));
const runtime_1 = require("@campaignos/runtime");
const SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/**
 * A fresh, empty database for one test file, on the PostgreSQL server at TEST_DATABASE_URL
 * (default: the local server), or on an embedded server when none answers.
 */
async function createTestDatabase() {
    let serverUrl = SERVER_URL;
    let stopEmbedded = null;
    if (!(await reachable(serverUrl))) {
        const server = await (0, runtime_1.startEmbeddedPostgres)({ dataDir: (0, node_fs_1.mkdtempSync)((0, node_path_1.join)((0, node_os_1.tmpdir)(), 'campaignos-pg-')) });
        serverUrl = server.databaseUrl;
        stopEmbedded = server.stop;
    }
    const name = `campaignos_test_${(0, node_crypto_1.randomBytes)(6).toString('hex')}`;
    await admin(serverUrl, `CREATE DATABASE ${name}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    return {
        url: url.toString(),
        async drop() {
            await admin(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
            await stopEmbedded?.();
        },
    };
}
async function admin(serverUrl, sql) {
    const client = new pg_1.default.Client({ connectionString: serverUrl });
    await client.connect();
    try {
        await client.query(sql);
    }
    finally {
        await client.end();
    }
}
async function reachable(url) {
    const client = new pg_1.default.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
        await client.connect();
        await client.end();
        return true;
    }
    catch {
        return false;
    }
}
//# sourceMappingURL=postgres.js.map