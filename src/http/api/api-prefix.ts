/** Where the management API is mounted: its errors answer with the management codes. */
export const API_PREFIX = '/api/v1';
