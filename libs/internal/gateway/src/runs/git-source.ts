// moved to @agola-ts/gitsources (the notification service loads project git sources too)
export { gitSourceForAccount } from '@agola-ts/gitsources';
