/** Graph `group` as OpenMAM answers it (security groups only; docs/graph.md). */
export interface Group {
  id: string;
  displayName: string;
  description: string | null;
  mailNickname: string | null;
  createdDateTime: string;
}

/** A member reference (`/groups/{id}/members`): OpenMAM's groups hold users. */
export interface DirectoryObject {
  '@odata.type': string;
  id: string;
}

/** Graph `user` as OpenMAM knows it from tokens: null where no token said. */
export interface User {
  id: string;
  userPrincipalName: string | null;
  displayName: string | null;
}

export const GROUPS_PATH = '/groups';
