import type { PollParameters } from '../../protocol/mde2/provisioning.ts';
import type { CspSetting } from './setting.ts';

/** The poll schedule as the CSP nodes an enrolled device gets when an admin changes it (new devices get it at enrollment). */
export function compilePollSchedule(providerId: string, poll: PollParameters): CspSetting[] {
  const node = (name: string) => `./Vendor/MSFT/DMClient/Provider/${providerId}/Poll/${name}`;
  const int = (name: string, value: number): CspSetting => ({ locUri: node(name), format: 'int', value: String(value) });
  const bool = (name: string, value: boolean): CspSetting => ({ locUri: node(name), format: 'bool', value: String(value) });
  return [
    int('NumberOfFirstRetries', poll.numberOfFirstRetries),
    int('IntervalForFirstSetOfRetries', poll.intervalForFirstSetOfRetries),
    int('NumberOfSecondRetries', poll.numberOfSecondRetries),
    int('IntervalForSecondSetOfRetries', poll.intervalForSecondSetOfRetries),
    int('NumberOfRemainingScheduledRetries', poll.numberOfRemainingScheduledRetries),
    int('IntervalForRemainingScheduledRetries', poll.intervalForRemainingScheduledRetries),
    bool('PollOnLogin', poll.pollOnLogin),
    bool('AllUsersPollOnFirstLogin', poll.allUsersPollOnFirstLogin),
  ];
}
