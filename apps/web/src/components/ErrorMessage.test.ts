import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { parseRemoteError } from '@agola-ts/errors';
import ErrorMessage from './ErrorMessage.vue';

describe('ErrorMessage', () => {
  it('shows the sentence of an API error in an alert, with a retry button when given', async () => {
    let retried = 0;
    const w = mount(ErrorMessage, {
      props: {
        error: parseRemoteError(404, '{"code":"","message":"org \\"x\\" doesn\'t exist"}'),
        retry: () => retried++,
      },
    });
    expect(w.get('[role=alert]').text()).toContain('Not found: Org "x" doesn\'t exist.');
    await w.get('button').trigger('click');
    expect(retried).toBe(1);
  });

  it('renders nothing without an error', () => {
    const w = mount(ErrorMessage, { props: { error: undefined } });
    expect(w.find('[role=alert]').exists()).toBe(false);
  });
});
