import { reusedFor } from './reused-for';

describe('reusedFor', () => {
  it('given reads within the age, when asked again, then the one answer is shared', async () => {
    let loads = 0;
    const read = reusedFor(1000, async () => ++loads);
    expect(await Promise.all([read(), read(), read()])).toEqual([1, 1, 1]);
    expect(loads).toBe(1);
  });

  it('given an age of 0, when asked, then it reads again', async () => {
    let loads = 0;
    const read = reusedFor(1000, async () => ++loads);
    await read();
    expect(await read(0)).toBe(2);
  });

  it('given a failed read, when asked again, then it reads again instead of keeping the failure', async () => {
    let loads = 0;
    const read = reusedFor(1000, async () => {
      if (++loads === 1) throw new Error('down');
      return loads;
    });
    await expect(read()).rejects.toThrow('down');
    expect(await read()).toBe(2);
  });
});
