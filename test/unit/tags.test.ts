import { describe, expect, it } from 'vitest';
import { nextTags, tag, tagDiff, tagEventName, tagList } from '../../core/tags';

describe('tags', () => {
  it('lower-cases and checks each tag, and de-duplicates a list', () => {
    expect(tag.parse(' VIP:Gold ')).toBe('vip:gold');
    expect(tag.safeParse('_x').success).toBe(false);
    expect(tag.safeParse('a'.repeat(65)).success).toBe(false);
    expect(tagList.parse(['B', 'b', 'a'])).toEqual(['b', 'a']);
    expect(tagList.safeParse(Array.from({ length: 101 }, (_, i) => `t${i}`)).success).toBe(false);
  });

  it('replaces, then adds, then removes', () => {
    expect(nextTags(['a', 'b'], { add: ['b', 'c'] })).toEqual(['a', 'b', 'c']);
    expect(nextTags(['a', 'b'], { set: ['c'], add: ['d'], remove: ['c'] })).toEqual(['d']);
    expect(nextTags(['a'], { remove: ['z'] })).toEqual(['a']);
  });

  it('names what a change gained and lost', () => {
    expect(tagDiff(['a', 'b'], ['b', 'c'])).toEqual({ added: ['c'], removed: ['a'] });
    expect(tagDiff(['a'], ['a'])).toEqual({ added: [], removed: [] });
    expect(tagEventName('vip', 'added')).toBe('tag.vip.added');
  });
});
