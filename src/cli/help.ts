import { DEFAULT_CONFIG } from '../config';
import { configVariablesHelp } from '../config-variables';
import { ADMIN_HELP } from './admin-help';

/** What `berth --help` prints: the commands, then every variable from the configuration table. */
export const HELP = `berth — an OCI container registry

Usage:
  berth serve        start the registry
  berth --help       show this help
  berth --version    show the version

${ADMIN_HELP}
${configVariablesHelp(DEFAULT_CONFIG)}`;
