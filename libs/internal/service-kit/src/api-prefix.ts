/** The prefix of every service API route, as in Agola. */
export const API_PREFIX = '/api/v1alpha';
