export interface TestDatabase {
    url: string;
    drop(): Promise<void>;
}
/**
 * A fresh, empty database for one test file, on the PostgreSQL server at TEST_DATABASE_URL
 * (default: the local server), or on an embedded server when none answers.
 */
export declare function createTestDatabase(): Promise<TestDatabase>;
