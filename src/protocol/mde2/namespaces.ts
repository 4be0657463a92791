/** XML namespaces and SOAP actions of MS-MDE2 (and the WS-* specs it builds on). */
export const NS = {
  soap: 'http://www.w3.org/2003/05/soap-envelope',
  addressing: 'http://www.w3.org/2005/08/addressing',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  wstrust: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512',
  authorization: 'http://schemas.xmlsoap.org/ws/2006/12/authorization',
  enrollment: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollment',
  discovery: 'http://schemas.microsoft.com/windows/management/2012/01/enrollment',
} as const;

export const ACTION = {
  discover: 'http://schemas.microsoft.com/windows/management/2012/01/enrollment/IDiscoveryService/Discover',
  discoverResponse: 'http://schemas.microsoft.com/windows/management/2012/01/enrollment/IDiscoveryService/DiscoverResponse',
  requestSecurityToken: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RST/wstep',
  requestSecurityTokenResponse: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RSTRC/wstep',
  fault: 'http://www.w3.org/2005/08/addressing/soap/fault',
} as const;

/** BinarySecurityToken ValueTypes and token types of the enrollment service. */
export const TOKEN = {
  /** Entra access token, base64 of the JWT string (what real clients send for federated enrollment). */
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
  /** The MS-MDE2 spelling of the federated user token. */
  deviceEnrollmentUserToken: 'http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentUserToken',
  pkcs10: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollment#PKCS10',
  provisionDoc: 'http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentProvisionDoc',
  deviceEnrollmentToken: 'http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentToken',
  base64Encoding: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd#base64binary',
  issueRequest: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue',
} as const;
