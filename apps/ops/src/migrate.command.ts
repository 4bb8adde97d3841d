import { createDatabaseIfMissing, migrate } from '@loyalty/read-models';
import type { OpsCommand } from './commands';

export const migrateCommand: OpsCommand = {
  summary: 'create the database if missing and apply the SQL migrations',
  async run({ config, logger }) {
    await createDatabaseIfMissing(config.postgres.connectionString);
    await migrate({ connectionString: config.postgres.connectionString, schema: config.postgres.schema });
    logger.info('migrations applied', { schema: config.postgres.schema });
    return 0;
  },
};
